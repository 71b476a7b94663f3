package dashboard

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// yLabelRE finds the y axis labels: right-aligned at an x left of the plot.
var yLabelRE = regexp.MustCompile(`<text class="axis" x="([0-9.]+)" y="[0-9.]+" text-anchor="end">([^<]*)</text>`)

// labelWidth over-estimates the width of an axis label at the chart's 11px font (CSS
// .throughput .axis): 0.7em for a digit or letter (sans-serif digits are about 0.55em,
// an "M" up to 0.85em), 0.35em for a point or a narrow space.
func labelWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch r {
		case '.', '\u202f', ' ':
			w += 0.35 * 11
		default:
			w += 0.7 * 11
		}
	}
	return w
}

// The y axis labels of a real backlog (100 000 or 1 500 000 events a minute) fit left
// of the plot: the SVG clips whatever is drawn left of 0, and "100 000" lost its "1".
func TestChartAxisLabelsFit(t *testing.T) {
	t.Parallel()
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		top  int64
		want []string // the labels at 0, half and the top
	}{
		{3, []string{"0", "2", "4"}},
		{4_000, []string{"0", "2\u202f500", "5\u202f000"}},
		{9_999, []string{"0", "5\u202f000", "10k"}},
		{100_000, []string{"0", "50k", "100k"}},
		{1_500_000, []string{"0", "1M", "2M"}},
		{4_000_000, []string{"0", "2.5M", "5M"}},
		{300_000_000_000, []string{"0", "250G", "500G"}},
	} {
		svg := string(throughputChart([]throughputPoint{{Minute: since.Add(30 * time.Minute), Published: tt.top}}, since))
		var labels [][]string
		for _, m := range yLabelRE.FindAllStringSubmatch(svg, -1) {
			if x, _ := strconv.ParseFloat(m[1], 64); x < chartLeft { // not "now" at the right end
				labels = append(labels, m)
			}
		}
		if len(labels) != len(tt.want) {
			t.Fatalf("top %d: %d y labels, want %d:\n%s", tt.top, len(labels), len(tt.want), svg)
		}
		for i, m := range labels {
			x, _ := strconv.ParseFloat(m[1], 64)
			if m[2] != tt.want[i] {
				t.Errorf("top %d: label %d is %q, want %q", tt.top, i, m[2], tt.want[i])
			}
			if w := labelWidth(m[2]); w > x {
				t.Errorf("top %d: label %q is about %.0f wide, but only %.0f fit left of the axis", tt.top, m[2], w, x)
			}
		}
	}
}

func TestCompactCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1_000: "1\u202f000", 9_999: "9\u202f999", 10_000: "10k", 12_345: "12k",
		100_000: "100k", 250_000: "250k", 999_499: "999k", 999_500: "1M", 1_000_000: "1M", 1_200_000: "1.2M",
		1_500_000: "1.5M", 2_500_000: "2.5M", 9_960_000: "10M", 25_000_000: "25M", 1_500_000_000: "1.5G",
		-1_500_000: "-1.5M", math.MaxInt64: "9.2E", math.MinInt64: "-9.2E",
	} {
		if got := compactCount(n); got != want {
			t.Errorf("compactCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestBrowserChartLabelsFit measures, in Chromium with the dashboard's stylesheet,
// that no y axis label of a chart with a real backlog starts left of the SVG, which
// clips it.
func TestBrowserChartLabelsFit(t *testing.T) {
	ctx := browser(t)
	css, err := assets.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var page strings.Builder
	page.WriteString("<!doctype html><html><head><style>" + string(css) + "</style></head><body><main>")
	for _, top := range []int64{4_000, 100_000, 1_500_000} {
		page.WriteString(string(throughputChart([]throughputPoint{{Minute: since, Published: top}}, since)))
	}
	page.WriteString("</main></body></html>")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page.String())
	}))
	t.Cleanup(srv.Close)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	// The left edge of every right-aligned label left of the plot, in SVG units.
	js := `[...document.querySelectorAll("svg.throughput text.axis[text-anchor=end]")]
		.filter(el => +el.getAttribute("x") < ` + strconv.Itoa(chartLeft) + `)
		.map(el => el.textContent + " " + el.getBBox().x.toFixed(1))`
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 9 {
		t.Fatalf("found %d y labels, want 9: %q", len(labels), labels)
	}
	for _, l := range labels {
		i := strings.LastIndexByte(l, ' ')
		if x, err := strconv.ParseFloat(l[i+1:], 64); err != nil || x < 0 {
			t.Errorf("y label %q starts at x=%s, left of the chart: it is cut off", l[:i], l[i+1:])
		}
	}
}
