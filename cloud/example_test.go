package cloud_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/cloud"
)

// A reporter sending to a collector (here a local test server): a heartbeat at start,
// then batches of event metadata. Without Endpoint and APIKey it would do nothing.
func Example() {
	var mu sync.Mutex
	var got []cloud.Envelope
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var env cloud.Envelope
		if err := json.NewDecoder(zr).Decode(&env); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, env)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer collector.Close()

	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "edgeoutbox-cloud-example")
	defer os.RemoveAll(dir)
	schema, _, err := edgeoutbox.NewSchema(edgeoutbox.DefaultSchemaFile).With(orderPlaced)
	if err != nil {
		fmt.Println(err)
		return
	}
	engine, err := edgeoutbox.Open(ctx, filepath.Join(dir, "app.db"), edgeoutbox.Config{Schema: schema})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()

	reporter, err := cloud.New(engine, cloud.Config{
		Endpoint: collector.URL, APIKey: "secret", App: "till", Environment: "staging", InstanceID: "till-7",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reporter.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for i := range 2 {
		if _, err := engine.Emit(ctx, "order_placed", edgeoutbox.Inputs{
			"order": order{ClassName: "Order", ID: fmt.Sprint(i), Note: "never sent"},
		}); err != nil {
			fmt.Println(err)
			return
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := reporter.Stop(stopCtx); err != nil { // sends what is buffered
		fmt.Println(err)
		return
	}

	mu.Lock()
	defer mu.Unlock()
	for _, env := range got {
		switch env.Kind {
		case cloud.KindHeartbeat:
			fmt.Println("heartbeat from", env.Origin.InstanceID, "schema events:", len(env.Heartbeat.Schema))
		case cloud.KindEvents:
			for _, e := range env.Events {
				fmt.Println(e.Name, e.Status, "event", e.EventID)
			}
		}
	}
	// Output:
	// heartbeat from till-7 schema events: 1
	// order_placed emitted event 1
	// order_placed emitted event 2
}
