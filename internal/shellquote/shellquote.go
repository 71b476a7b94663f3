// Package shellquote quotes words for a POSIX shell, so that the commands edgeoutbox
// prints in its messages can be pasted as they are.
package shellquote

import "strings"

// Quote returns s quoted for a POSIX shell when it needs it, unchanged otherwise.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
