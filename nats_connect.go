package edgeoutbox

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// DialNATS connects to NATS the way an outbox needs: it never gives up. The defaults
// are MaxReconnects(-1) (reconnect forever), RetryOnFailedConnect(true) (a broker
// that is down at start is not an error: the connection keeps trying in the
// background), ReconnectWait of one second with jitter, and ReconnectBufSize(-1).
//
// The reconnect buffer is disabled on purpose: the outbox already holds every
// unpublished event durably, and a publish buffered in memory during an outage would
// be sent again by the relay after reconnecting (a duplicate in core mode). With the
// buffer off, a publish during an outage fails at once and is reported as unavailable.
//
// The connection's socket writes pass through a guard (a custom dialer wrapping the
// dialer opts would use): a [NATSTransport] on it can refuse, at the moment nats.go
// writes to the socket, bytes that carry its messages once the relay's lease has
// passed (a process frozen after a publish was buffered but before it was written)
// or on a connection the batch was not opened on (a reconnect in the middle of a
// batch). A refused write closes the socket and nats.go reconnects; nothing of that
// write reached the server. While the transport has no batch unanswered, every write
// goes through, so the connection can be shared. The guard reads the plain NATS
// protocol only: over TLS or WebSocket it passes everything through unguarded.
//
// Options in opts are applied after the defaults and so override them (a custom
// dialer among them is kept, under the guard). Connection
// handlers are not needed for [NATSTransport]: it follows the connection through
// (*nats.Conn).StatusChanged. If you add your own, note that with
// RetryOnFailedConnect the first successful connect fires the ConnectHandler, not
// the ReconnectHandler.
func DialNATS(url string, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.Name("edgeoutbox"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.ReconnectBufSize(-1),
	}
	all := append(base, opts...)
	all = append(all, nats.SetCustomDialer(&wireGuard{inner: baseDialer(all)}))
	nc, err := nats.Connect(url, all...)
	if err != nil {
		// The URL is not repeated: it may carry credentials.
		return nil, fmt.Errorf("dial nats: %w", err)
	}
	return nc, nil
}
