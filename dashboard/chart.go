package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units; the SVG scales to its container.
const (
	chartW, chartH                 = 720, 180
	chartLeft, chartRight          = 44, 8
	chartTop, chartBottom          = 10, 24
	chartMinutes                   = 60
	chartBarGap                    = 2
	chartPlotW, chartPlotH         = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartSlotW             float64 = float64(chartPlotW) / chartMinutes
)

// throughputChart draws per-minute published and dead-lettered counts of the hour that
// starts at since as stacked bars. It is drawn here, not in the browser: the page needs
// no charting script, and everything in it is numbers and fixed labels, so it is safe
// to embed as HTML.
func throughputChart(points []throughputPoint, since time.Time) template.HTML {
	var pub, dead [chartMinutes]int64
	var top int64
	for _, p := range points {
		i := int(p.Minute.Sub(since) / time.Minute)
		if i < 0 || i >= chartMinutes {
			continue
		}
		pub[i] += p.Published
		dead[i] += p.DeadLettered
		top = max(top, pub[i]+dead[i])
	}
	scale := niceCeil(top)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="throughput" viewBox="0 0 %d %d" role="img" aria-label="Events per minute over the last hour" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH)
	// Grid lines and y labels at 0, half and the top.
	for _, frac := range []float64{0, 0.5, 1} {
		y := float64(chartTop) + float64(chartPlotH)*(1-frac)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, chartLeft, y, chartW-chartRight, y)
		label := template.HTMLEscapeString(compactCount(int64(frac * float64(scale))))
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartLeft-6, y+4, label)
	}
	for i := range chartMinutes {
		total := pub[i] + dead[i]
		if total == 0 {
			continue
		}
		x := float64(chartLeft) + float64(i)*chartSlotW + chartBarGap/2
		w := chartSlotW - chartBarGap
		minute := since.Add(time.Duration(i) * time.Minute)
		hp := float64(chartPlotH) * float64(pub[i]) / float64(scale)
		hd := float64(chartPlotH) * float64(dead[i]) / float64(scale)
		base := float64(chartTop + chartPlotH)
		fmt.Fprintf(&b, `<g><title>%s UTC: %d published, %d dead-lettered</title>`, minute.Format("15:04"), pub[i], dead[i])
		if pub[i] > 0 {
			fmt.Fprintf(&b, `<rect class="bar-published" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x, base-hp, w, max(hp, 1))
		}
		if dead[i] > 0 {
			fmt.Fprintf(&b, `<rect class="bar-dead" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x, base-hp-hd, w, max(hd, 1))
		}
		b.WriteString(`</g>`)
	}
	// x labels every 15 minutes.
	for i := 0; i <= chartMinutes; i += 15 {
		x := float64(chartLeft) + float64(i)*chartSlotW
		label := since.Add(time.Duration(i) * time.Minute).Format("15:04")
		anchor := "middle"
		if i == chartMinutes {
			anchor, label = "end", "now"
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x, chartH-6, anchor, label)
	}
	if top == 0 {
		fmt.Fprintf(&b, `<text class="axis empty-chart" x="%d" y="%d" text-anchor="middle">No events published or dead-lettered in the last hour</text>`,
			chartLeft+chartPlotW/2, chartTop+chartPlotH/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// compactCount writes a count in at most four characters and a unit, so that it fits
// the chart's y axis (chartLeft): up to 9 999 as formatCount does, then 10k, 250k,
// 1.5M, 25M, 2.5G… The bars' tooltips keep the exact counts.
func compactCount(n int64) string {
	if n > -10_000 && n < 10_000 {
		return formatCount(n)
	}
	sign, v := "", float64(n)
	if v < 0 {
		sign, v = "-", -v
	}
	for _, unit := range []string{"k", "M", "G", "T", "P"} {
		v /= 1000
		switch {
		case v < 9.95:
			return sign + strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + unit
		case v < 999.5:
			return sign + strconv.FormatFloat(v, 'f', 0, 64) + unit
		}
	}
	return sign + strconv.FormatFloat(v/1000, 'f', 1, 64) + "E" // int64 ends at 9.2E
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 4, so an empty or
// quiet hour still has a readable scale).
func niceCeil(n int64) int64 {
	if n <= 4 {
		return 4
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
