package cloud_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeoutbox/edgeoutbox/cloud"
)

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// The wire format examples in the README decode strictly into the types the reporter
// sends, so the documentation and the code cannot drift apart.
func TestReadmeWireFormatMatchesTypes(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Cloud reporter wire format (version 1)")
	if !ok {
		t.Fatal("README has no \"Cloud reporter wire format (version 1)\" section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	blocks := jsonBlock.FindAllStringSubmatch(section, -1)
	kinds := map[string]bool{}
	for _, b := range blocks {
		var env cloud.Envelope
		dec := json.NewDecoder(bytes.NewReader([]byte(b[1])))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&env); err != nil {
			t.Fatalf("README example does not match cloud.Envelope: %v\n%s", err, b[1])
		}
		if env.WireVersion != cloud.WireVersion {
			t.Fatalf("README example has wire_version %d, code sends %d", env.WireVersion, cloud.WireVersion)
		}
		kinds[env.Kind] = true
	}
	if !kinds[cloud.KindEvents] || !kinds[cloud.KindHeartbeat] {
		t.Fatalf("README examples cover kinds %v, want both events and heartbeat", kinds)
	}
}
