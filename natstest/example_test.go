package natstest_test

import (
	"fmt"
	"log"
	"time"

	"github.com/edgeoutbox/edgeoutbox/natstest"
)

// Start runs a real NATS server from any program, not only a test: here an outage
// and the client's reconnect.
func ExampleStart() {
	srv, err := natstest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	nc, err := srv.Dial()
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	srv.Shutdown()
	if err := srv.Restart(); err != nil {
		log.Fatal(err)
	}
	if err := natstest.Wait(10*time.Second, "reconnect", nc.IsConnected); err != nil {
		log.Fatal(err)
	}
	fmt.Println("reconnected to the same URL:", nc.ConnectedUrl() == srv.URL())
	// Output: reconnected to the same URL: true
}
