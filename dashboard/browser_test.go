package dashboard

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/edgeoutbox/edgeoutbox"
)

// screenshots asks the browser test to write its screenshots to docs/dashboard/
// (go test ./dashboard/ -run TestBrowser -dashboard.screenshots).
var screenshots = flag.Bool("dashboard.screenshots", false, "write the browser test's screenshots to docs/dashboard/")

// chromiumPath finds Chromium. Without it the browser test skips, except under CI=true,
// where a missing browser is a broken environment and fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for chromium, chromium-browser, google-chrome): install it with \"apt-get install -y chromium\" to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a fresh profile for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	timeout := 90 * time.Second
	if testing.Short() {
		timeout = 3 * time.Minute // -race -short on a busy machine is slow
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// console collects what the pages write to the console (script errors, CSP
// violations) until the test ends.
func console(t *testing.T, ctx context.Context) func() []string {
	var mu sync.Mutex
	var lines []string
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			// The sign-in page answers 403 by design; anything else is a defect.
			if (m.IsException() || m.Type == "error" || m.Type == "warning") && !strings.Contains(m.Text, "status of 403") {
				mu.Lock()
				lines = append(lines, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

// seedRealistic fills the outbox with a mix of events, a few of them dead letters
// with a believable broker error.
func seedRealistic(t *testing.T, v *env) (dead []int64) {
	t.Helper()
	v.mem.FailWhere(func(ev *edgeoutbox.Event) error {
		if strings.Contains(string(ev.Payload), poison) {
			return edgeoutbox.Permanent(errors.New("nats: maximum payload exceeded"))
		}
		return nil
	})
	notes := []string{"gift wrap requested", "deliver after 5pm", "call on arrival", "leave with neighbour"}
	carriers := []string{"DHL", "UPS", "PostNL"}
	for i := range 36 {
		meta := edgeoutbox.WithMetadata(map[string]string{"request_id": fmt.Sprintf("req-%04d", 7000+i), "origin": "till-2"})
		var err error
		switch i % 3 {
		case 0:
			_, err = v.e.Emit(v.ctx, "order_noted", edgeoutbox.Inputs{"order": map[string]any{
				"class_name": "Order", "id": 1000 + i, "note": notes[i%len(notes)], "total": 12.5 + float64(i*7%90),
			}}, meta)
		case 1:
			_, err = v.e.Emit(v.ctx, "payment_captured", edgeoutbox.Inputs{"payment": map[string]any{
				"class_name": "Payment", "id": 5000 + i, "amount": 12.5 + float64(i*7%90), "currency": "EUR",
			}}, meta)
		default:
			_, err = v.e.Emit(v.ctx, "parcel_shipped", edgeoutbox.Inputs{"parcel": map[string]any{
				"class_name": "Parcel", "id": fmt.Sprintf("P-%05d", 300+i), "carrier": carriers[i%len(carriers)], "tracking": fmt.Sprintf("JD0146%08d", 4711*i),
			}}, meta)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		r, err := v.e.Emit(v.ctx, "order_noted", edgeoutbox.Inputs{"order": map[string]any{
			"class_name": "Order", "id": 2000 + i, "note": poison + ": scanned invoice attached", "total": 310.0 + float64(i),
		}}, edgeoutbox.WithMetadata(map[string]string{"request_id": fmt.Sprintf("req-%04d", 9000+i)}))
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, r.ID)
	}
	v.relay(36, 3)
	v.mem.SetOffline(true)
	v.emit(4, "waiting for the uplink") // a small backlog: the device is offline
	return dead
}

// TestBrowser drives the dashboard in headless Chromium, mounted at /ops/outbox/: sign
// in, filter, open an event, retry a dead letter and watch it become published.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	v := newEnv(t, func(o *Options) { o.RefreshInterval = time.Second })
	dead := seedRealistic(t, v)
	logs := console(t, ctx)
	base := v.srv.URL + testMount

	shot := func(name string) {
		t.Helper()
		if !*screenshots {
			return
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0); true`)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		dir := filepath.Join("..", "docs", "dashboard")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(loc, base) {
			t.Errorf("the browser left the mount: %s", loc)
		}
		return loc
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v (at %s)", what, err, location())
		}
	}

	// Sign in: the dashboard asks for the token, then shows the overview.
	do("open the dashboard", chromedp.Navigate(base+"events?status=pending"), chromedp.WaitVisible(chromedp.CSS("#token")))
	do("sign in with a wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "wrong"), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS(".alert-error")))
	do("sign in", chromedp.SendKeys(chromedp.CSS("#token"), testToken), chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("table.table-events")))
	if loc := location(); !strings.HasSuffix(loc, "events?status=pending") {
		t.Errorf("after sign-in the browser is at %s, want the page it asked for", loc)
	}
	do("overview", chromedp.Click(chromedp.CSS(`nav.nav a[href="/ops/outbox/"]`)), chromedp.WaitVisible(chromedp.CSS("#count-dead")))
	if n, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#count-dead"))); n != "3" {
		t.Errorf("overview shows %q dead letters, want 3", n)
	}
	shot("overview")

	// Auto-refresh: the overview fetches itself while visible, stops while the tab is
	// hidden, and catches up at once when it is shown again.
	waitLoads := func(what string, n int64) {
		t.Helper()
		do(what, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			for v.overviewLoads.Load() < n {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
			return nil
		}))
	}
	waitLoads("auto-refresh", v.overviewLoads.Load()+2)
	setVisibility := func(state string) {
		t.Helper()
		js := `Object.defineProperty(document, "visibilityState", {value: "` + state + `", configurable: true});
			document.dispatchEvent(new Event("visibilitychange")); true`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatal(err)
		}
	}
	setVisibility("hidden")
	if st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#refresh-state"))); st != "Paused" {
		t.Errorf("hidden tab says %q, want Paused", st)
	}
	hidden := v.overviewLoads.Load()
	// An absence needs a window to be seen in: three refresh intervals.
	do("stay hidden", chromedp.Sleep(3*time.Second))
	if n := v.overviewLoads.Load() - hidden; n > 1 { // one fetch may have been in flight
		t.Errorf("a hidden tab refreshed %d times in 3 s", n)
	}
	v.emit(1, "while hidden")
	setVisibility("visible")
	do("refresh on show", chromedp.WaitVisible(chromedp.CSS(`#count-pending`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.getElementById("count-pending").textContent === "5"`)(ctx, tg)
			return err
		}))

	// Events: the whole list, then filtered by status through the form.
	do("events list", chromedp.Click(chromedp.CSS(`nav.nav a[href="/ops/outbox/events"]`)), chromedp.WaitVisible(chromedp.CSS("table.table-events")))
	shot("events")
	do("filter", chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "dead_lettered"),
		chromedp.Click(chromedp.CSS(`.filters button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.filters a.clear-filters`))) // only a filtered page has it
	if loc := location(); !strings.HasSuffix(loc, "events?status=dead_lettered") {
		t.Errorf("the filter is not in the address: %s", loc)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.table-events tbody tr").length`))
	if err != nil || rows != 3 {
		t.Errorf("filtered list has %d rows (%v), want 3", rows, err)
	}

	// Open a dead letter: its payload is there, pretty-printed.
	target := fmt.Sprintf(`table.table-events a[href="/ops/outbox/events/%d"]`, dead[2])
	do("open an event", chromedp.Click(chromedp.CSS(target)), chromedp.WaitVisible(chromedp.CSS("#payload")))
	payload, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#payload")))
	if !strings.Contains(payload, `"note": "poison: scanned invoice attached"`) {
		t.Errorf("payload shown as %q", payload)
	}
	shot("event")

	// Dead letters: retry one from the list, and watch it get published.
	do("dead letters", chromedp.Click(chromedp.CSS(`nav.nav a[href="/ops/outbox/dead-letters"]`)), chromedp.WaitVisible(chromedp.CSS("#retry-form")))
	shot("dead-letters")
	v.mem.FailWhere(nil)
	v.mem.SetOffline(false) // the uplink is back and the broker takes the event now
	do("retry one", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[name="one"][value="%d"]`, dead[0]))), chromedp.WaitVisible(chromedp.CSS("#notice")))
	notice, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#notice")))
	if !strings.Contains(notice, "1 dead letter is pending again") {
		t.Errorf("notice after retry: %q", notice)
	}
	// The event page refreshes itself (every second here) until it shows published.
	do("see it published", chromedp.Navigate(base+fmt.Sprintf("events/%d", dead[0])),
		chromedp.WaitVisible(chromedp.CSS(".page-head .badge-published")))
	location()

	// Retry everything else, through the confirmation step.
	do("retry all", chromedp.Click(chromedp.CSS(`nav.nav a[href="/ops/outbox/dead-letters"]`)), chromedp.WaitVisible(chromedp.CSS("#retry-matching")),
		chromedp.Click(chromedp.CSS("#retry-matching")), chromedp.WaitVisible(chromedp.CSS("#confirm-retry")))
	shot("confirm")
	do("confirm", chromedp.Click(chromedp.CSS("#confirm-retry")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	if notice, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#notice"))); !strings.Contains(notice, "2 dead letters are pending again") {
		t.Errorf("notice after retry all: %q", notice)
	}
	v.waitStats("every retried event published", func(s edgeoutbox.Stats) bool { return s.DeadLettered == 0 && s.Pending == 0 })

	// Signed out, the dashboard asks for the token again.
	do("sign out", chromedp.Click(chromedp.CSS(`.topbar form button`)), chromedp.WaitVisible(chromedp.CSS("#token")))
	shot("sign-in")

	for _, l := range logs() {
		t.Errorf("browser console: %s", l)
	}
}
