// Command consumer is the back-office side of the quickstart: it reads message
// bodies, one JSON envelope per line on stdin (e.g. from "nats sub --raw"), and prints
// each event's typed payload. It links only the standard library and the envelope and
// payload packages, no SQLite: about 2 MB stripped.
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"

	"github.com/edgeoutbox/edgeoutbox/envelope"
	"github.com/edgeoutbox/edgeoutbox/examples/quickstart/events/payload"
)

func main() {
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 0, 64*1024), 8<<20)
	for lines.Scan() {
		env, err := envelope.Decode(lines.Bytes())
		if err != nil {
			log.Fatal(err)
		}
		p, err := payload.Decode(env)
		if err != nil {
			log.Fatal(err)
		}
		switch p := p.(type) {
		case *payload.CowFedV1:
			name := "(none)"
			if p.Name != nil {
				name = *p.Name
			}
			fmt.Printf("%s v%d cow %s: weight %g, name %s\n", env.Name, env.Version, env.Entity.ID, p.Weight, name)
		default:
			fmt.Printf("%s v%d: %+v\n", env.Name, env.Version, p)
		}
	}
	if err := lines.Err(); err != nil {
		log.Fatal(err)
	}
}
