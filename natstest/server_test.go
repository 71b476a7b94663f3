package natstest_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

func TestRestartKeepsURLAndStore(t *testing.T) {
	srv := natstest.StartServer(t)
	url, store := srv.URL(), srv.StoreDir()
	nc := srv.Connect(t)
	srv.Shutdown()
	srv.Shutdown() // safe twice
	if srv.Running() {
		t.Fatal("Running after Shutdown")
	}
	natstest.WaitFor(t, 5*time.Second, "disconnect", func() bool { return nc.Status() != nats.CONNECTED })
	srv.Restart()
	if srv.URL() != url || srv.StoreDir() != store {
		t.Fatalf("restart moved the server: %s %s, was %s %s", srv.URL(), srv.StoreDir(), url, store)
	}
	natstest.WaitFor(t, 10*time.Second, "reconnect", func() bool { return nc.Status() == nats.CONNECTED })
	srv.Restart() // restart while running
	natstest.WaitFor(t, 10*time.Second, "reconnect", func() bool { return nc.Status() == nats.CONNECTED })
}

func TestStartWithoutTestingRemovesItsStore(t *testing.T) {
	srv, err := natstest.Start()
	if err != nil {
		t.Fatal(err)
	}
	store := srv.StoreDir()
	if _, err := os.Stat(store); err != nil {
		t.Fatalf("store directory missing while running: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("store directory %s left behind: %v", store, err)
	}
	if err := natstest.Wait(10*time.Millisecond, "never", func() bool { return false }); !errors.Is(err, natstest.ErrTimeout) {
		t.Fatalf("Wait = %v, want ErrTimeout", err)
	}
}
