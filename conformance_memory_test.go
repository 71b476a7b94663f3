package edgeoutbox_test

import (
	"context"
	"testing"

	"github.com/edgeoutbox/edgeoutbox"
	"github.com/edgeoutbox/edgeoutbox/edgeoutboxtest"
)

func TestMemoryTransportConformance(t *testing.T) {
	t.Parallel()
	edgeoutboxtest.RunTransportConformance(t, func(t *testing.T) *edgeoutboxtest.Harness {
		mt := edgeoutbox.NewMemoryTransport()
		return &edgeoutboxtest.Harness{
			Transport: mt,
			Received:  func(context.Context) ([]*edgeoutbox.Event, error) { return mt.Events(), nil },
			// The memory transport is its own broker: offline is its outage.
			StopBroker:  func(*testing.T) { mt.SetOffline(true) },
			StartBroker: func(*testing.T) { mt.SetOffline(false) },
		}
	})
}
