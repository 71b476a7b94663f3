package cloud_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// Without an endpoint and an API key the reporter starts no goroutine and opens no
// connection, even when one of the two is set.
func TestReporterInertWithoutConfiguration(t *testing.T) {
	col := newCollector(t, nil)
	for name, cfg := range map[string]cloud.Config{
		"nothing":       {},
		"endpoint only": {Endpoint: col.URL, BatchSize: 1, FlushInterval: time.Millisecond},
		"key only":      {APIKey: "k"},
	} {
		t.Run(name, func(t *testing.T) {
			e, _ := openEngine(t, relayConfig())
			emit(t, e, 0) // the engine's own goroutines are up before counting
			r, err := cloud.New(e, cfg)
			if err != nil {
				t.Fatal(err)
			}
			before := runtime.NumGoroutine()
			if err := r.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if after := runtime.NumGoroutine(); after > before {
				t.Fatalf("inert Start went from %d to %d goroutines", before, after)
			}
			for i := 1; i < 20; i++ {
				emit(t, e, i)
			}
			if r.Enabled() || r.Health() != (cloud.Health{}) {
				t.Fatalf("inert reporter: enabled %v, health %+v", r.Enabled(), r.Health())
			}
			if err := r.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := col.conns.Load(); n != 0 {
				t.Fatalf("inert reporter opened %d connections", n)
			}
		})
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	t.Parallel()
	e, _ := openEngine(t, relayConfig())
	for name, c := range map[string]struct {
		cfg  cloud.Config
		want string
	}{
		"plain http on a network": {cloud.Config{Endpoint: "http://collector.example.com/in", APIKey: "k"}, "use https"},
		"not a URL":               {cloud.Config{Endpoint: "::", APIKey: "k"}, "not a URL"},
		"no host":                 {cloud.Config{Endpoint: "https:///x", APIKey: "k"}, "no host"},
		"ftp":                     {cloud.Config{Endpoint: "ftp://h/x", APIKey: "k"}, "https URL"},
		"batch above buffer":      {cloud.Config{Endpoint: "https://h/x", APIKey: "k", BatchSize: 20, BufferSize: 10}, "raise BufferSize"},
		"negative":                {cloud.Config{Endpoint: "https://h/x", APIKey: "k", Timeout: -1}, "must not be negative"},
	} {
		_, err := cloud.New(e, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", name, err, c.want)
		}
	}
	if _, err := cloud.New(e, cloud.Config{Endpoint: "https://user:pw@h/x?token=t", APIKey: "k", Timeout: -1}); err == nil ||
		strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "token=t") {
		t.Errorf("credentials leak into the error: %v", err)
	}
}
