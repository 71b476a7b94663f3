package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/metrics"
)

var (
	orderPlaced = edgeoutbox.Define("order_placed",
		edgeoutbox.Input("order"),
		edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
		edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.String),
		edgeoutbox.RequiredPayload("note", edgeoutbox.From("order"), edgeoutbox.String),
	)
	parcelSent = edgeoutbox.Define("parcel_sent",
		edgeoutbox.Input("order"),
		edgeoutbox.EntityClass("class_name", edgeoutbox.From("order"), edgeoutbox.String),
		edgeoutbox.EntityID("id", edgeoutbox.From("order"), edgeoutbox.String),
		edgeoutbox.RequiredPayload("note", edgeoutbox.From("order"), edgeoutbox.String),
	)
)

type order struct {
	ClassName string `json:"class_name"`
	ID        string `json:"id"`
	Note      string `json:"note"`
}

func inputs(class string, id int) edgeoutbox.Inputs {
	return edgeoutbox.Inputs{"order": order{ClassName: class, ID: strconv.Itoa(id), Note: "n"}}
}

func openEngine(t testing.TB, cfg edgeoutbox.Config) (*edgeoutbox.Engine, *edgeoutbox.MemoryTransport) {
	t.Helper()
	s, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(orderPlaced, parcelSent)
	if err != nil {
		t.Fatalf("build schema: %v", err)
	}
	mem := edgeoutbox.NewMemoryTransport()
	cfg.Schema, cfg.Transport = s, mem
	e, err := edgeoutbox.Open(context.Background(), filepath.Join(t.TempDir(), "app.db"), cfg)
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, mem
}

func newMetrics(t testing.TB, e metrics.Engine) *metrics.Metrics {
	t.Helper()
	m, err := metrics.New(e, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// parse reads the text exposition into series → value, failing on a malformed line.
func parse(t testing.TB, r io.Reader) map[string]float64 {
	t.Helper()
	out, err := parseText(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseText(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("malformed exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("malformed value in %q: %w", line, err)
		}
		if _, dup := out[line[:i]]; dup {
			return nil, fmt.Errorf("series %q appears twice", line[:i])
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// scrape GETs url and parses the answer.
func scrape(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s %q", resp.Status, b)
	}
	return parse(t, resp.Body)
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
