package codegen

import (
	"strings"
	"unicode"
)

// initialisms are written in capitals in Go names (id → ID), as golint wants.
var initialisms = map[string]string{
	"id": "ID", "ids": "IDs", "url": "URL", "uri": "URI", "uuid": "UUID", "http": "HTTP",
	"https": "HTTPS", "json": "JSON", "api": "API", "ip": "IP", "sql": "SQL", "utc": "UTC",
	"html": "HTML", "xml": "XML", "tcp": "TCP", "udp": "UDP", "ttl": "TTL", "cpu": "CPU",
}

// GoName turns an event, input or field name ("cow_fed", "farmer-id") into an
// exported Go identifier ("CowFed", "FarmerID"). Names are letters, digits, '_' and
// '-', so splitting on the last two is enough; a name that would start with a digit
// gets an "X" in front.
func GoName(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' }) {
		if up, ok := initialisms[strings.ToLower(part)]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	s := b.String()
	if s == "" || !unicode.IsLetter([]rune(s)[0]) {
		s = "X" + s
	}
	return s
}
