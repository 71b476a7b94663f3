package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// mentionRE finds "edgeoutbox <word> [<word>]" where the words could be a command:
// lower-case letters and dashes. "edgeoutbox: …" (an error prefix) and
// "edgeoutbox.DumpSchema" do not match.
var mentionRE = regexp.MustCompile(`\bedgeoutbox ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)

// quotedMentionRE finds mentions that are plainly commands: right after a quote or a
// backquote. Prose ("edgeoutbox relay started") does not match.
var quotedMentionRE = regexp.MustCompile("[\"'`]edgeoutbox ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")

// codeLineMentionRE finds commands at the start of a line of a fenced code block,
// with or without a "$ " prompt.
var codeLineMentionRE = regexp.MustCompile(`(?m)^\s*(?:\$ )?edgeoutbox ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)

// literalMentionRE finds a command that a string literal starts with: the library
// builds commands that way ("edgeoutbox gen " + pkg).
var literalMentionRE = regexp.MustCompile(`^edgeoutbox ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?`)

// mentionFlagRE finds the flags written after a mention, up to the end of the line,
// the quote that closes it or a "|" (a pipe, or the README's "list|show ID|retry ID").
var mentionFlagRE = regexp.MustCompile(`(?:^|\s)--([a-z][a-z-]*)`)

// mentionFlags returns the flags in rest, the text right after a mention.
func mentionFlags(rest string) []string {
	if i := strings.IndexAny(rest, "\"`\n|"); i >= 0 {
		rest = rest[:i]
	}
	var flags []string
	for _, m := range mentionFlagRE.FindAllStringSubmatch(rest, -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// flagChecker tells whether a command has a flag, from its --help output.
type flagChecker struct {
	t     *testing.T
	usage map[string]string
}

// check reports what is wrong with the flags of a mention of command [sub], or "".
func (fc *flagChecker) check(cmds []*command, name, sub string, flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	args := []string{name}
	for _, c := range cmds {
		if c.Name == name && len(c.Subcommands) > 0 {
			args = append(args, sub)
		}
	}
	key := strings.Join(args, " ")
	usage, ok := fc.usage[key]
	if !ok {
		r := run(fc.t, append(args, "--help")...)
		usage = r.stdout
		fc.usage[key] = usage
	}
	for _, f := range flags {
		if f == "help" {
			continue // every command has it
		}
		if !regexp.MustCompile(`(?m)^\s+--` + regexp.QuoteMeta(f) + `\b`).MatchString(usage) {
			return "names flag --" + f + ", which edgeoutbox " + key + " does not have"
		}
	}
	return ""
}

// checkMention reports what is wrong with a mention of command [sub], or "".
func checkMention(cmds []*command, name, sub string) string {
	for _, c := range cmds {
		if c.Name != name {
			continue
		}
		if len(c.Subcommands) == 0 {
			return ""
		}
		if sub == "" {
			return "names group " + name + " without a subcommand"
		}
		if c.sub(sub) == nil {
			return "names unknown subcommand " + name + " " + sub
		}
		return ""
	}
	return "names unknown command " + name
}

// stringLiterals returns the values of the string literals of a Go file.
func stringLiterals(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// TestCommandMentions checks that every "edgeoutbox …" command named in this
// program's strings, the root package's strings and the README exists in the command
// table, spelled the same, and has the flags written after it.
func TestCommandMentions(t *testing.T) {
	cmds := commandTable()
	flags := &flagChecker{t: t, usage: map[string]string{}}
	checked, flagged := 0, 0
	check := func(where, text string, re *regexp.Regexp) {
		for _, loc := range re.FindAllStringSubmatchIndex(text, -1) {
			checked++
			m0, name := text[loc[0]:loc[1]], text[loc[2]:loc[3]]
			sub := ""
			if loc[4] >= 0 {
				sub = text[loc[4]:loc[5]]
			}
			problem := checkMention(cmds, name, sub)
			if problem == "" {
				fs := mentionFlags(text[loc[1]:])
				flagged += len(fs)
				problem = flags.check(cmds, name, sub, fs)
			}
			if problem != "" {
				t.Errorf("%s: %q %s", where, strings.TrimSpace(m0), problem)
			}
		}
	}

	// This command: every mention in a string literal counts.
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, s := range stringLiterals(t, f) {
			check(f, s, mentionRE)
		}
	}
	// The library and internal packages: their log messages say "edgeoutbox relay
	// started", so only quoted mentions count there ("run \"edgeoutbox migrate\"").
	var libFiles []string
	for _, pattern := range []string{"../../*.go", "../../internal/*/*.go"} {
		m, _ := filepath.Glob(pattern)
		libFiles = append(libFiles, m...)
	}
	for _, f := range libFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, s := range stringLiterals(t, f) {
			check(f, s, quotedMentionRE)
			check(f, s, literalMentionRE)
		}
	}
	// The README: commands in code spans, quotes and fenced code blocks.
	if data, err := os.ReadFile("../../README.md"); err == nil {
		for _, m := range markdownMentions(string(data)) {
			checked++
			problem := checkMention(cmds, m.name, m.sub)
			if problem == "" {
				flagged += len(m.flags)
				problem = flags.check(cmds, m.name, m.sub, m.flags)
			}
			if problem != "" {
				t.Errorf("README.md:%d: %q %s", m.line, m.text, problem)
			}
		}
	}
	if checked < 10 || flagged < 10 {
		t.Errorf("only %d mentions and %d flags checked: the scan is broken", checked, flagged)
	}
}

func TestMentionFlags(t *testing.T) {
	for text, want := range map[string]string{
		` --out 'my schema.json' ./events", then commit`: "out",
		` --db app.db --json`:                            "db|json",
		` --out <directory of x>/s.json pkg`:             "out",
		" ./events\nWithout --out the file":              "",
		`" does without --out`:                           "",
		`--schema x`:                                     "schema",
		` run--this`:                                     "",
		` list|retry --all`:                              "",
	} {
		if got := strings.Join(mentionFlags(text), "|"); got != want {
			t.Errorf("mentionFlags(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestCheckMention(t *testing.T) {
	cmds := commandTable()
	for _, ok := range [][2]string{{"migrate", ""}, {"migrate", "creates"}, {"schema", "dump"}, {"dead-letters", "list"}, {"outbox", "cleanup"}, {"demo", "shows"}} {
		if p := checkMention(cmds, ok[0], ok[1]); p != "" {
			t.Errorf("%v: %s", ok, p)
		}
	}
	for _, bad := range [][2]string{{"migrations", ""}, {"schema", "dumps"}, {"deadletters", "list"}, {"dead-letters", "retry-all"}, {"outbox", ""}, {"dashboards", ""}} {
		if p := checkMention(cmds, bad[0], bad[1]); p == "" {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestMentionRegexps(t *testing.T) {
	text := `run "edgeoutbox schema dump <definitions package>" or edgeoutbox.DumpSchema; edgeoutbox: unknown event; edgeoutbox relay started`
	var got []string
	for _, m := range quotedMentionRE.FindAllStringSubmatch(text, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	if strings.Join(got, "|") != "schema dump" {
		t.Errorf("quoted mentions = %q, want just schema dump", got)
	}
	got = nil
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		got = append(got, strings.TrimSpace(m[1]+" "+m[2]))
	}
	if strings.Join(got, "|") != "schema dump|relay started" {
		t.Errorf("mentions = %q", got)
	}
}

type mention struct {
	line            int
	text, name, sub string
	flags           []string
}

// markdownMentions finds command mentions in Markdown: in code spans and quotes
// anywhere, and at the start of lines in fenced code blocks.
func markdownMentions(md string) []mention {
	var out []mention
	inFence := false
	for i, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		res := []*regexp.Regexp{quotedMentionRE}
		if inFence {
			res = append(res, codeLineMentionRE)
		}
		for _, re := range res {
			for _, loc := range re.FindAllStringSubmatchIndex(line, -1) {
				m := mention{line: i + 1, text: strings.TrimSpace(line[loc[0]:loc[1]]), name: line[loc[2]:loc[3]], flags: mentionFlags(line[loc[1]:])}
				if loc[4] >= 0 {
					m.sub = line[loc[4]:loc[5]]
				}
				out = append(out, m)
			}
		}
	}
	return out
}

func TestMarkdownMentions(t *testing.T) {
	md := "edgeoutbox keeps events.\nRun `edgeoutbox demo` first.\n```sh\n$ edgeoutbox schema dump ./events\nedgeoutbox migrate --db app.db\n```\nedgeoutbox relay is prose.\n"
	var got []string
	for _, m := range markdownMentions(md) {
		got = append(got, strconv.Itoa(m.line)+":"+strings.TrimSpace(m.name+" "+m.sub))
	}
	if want := "2:demo|4:schema dump|5:migrate"; strings.Join(got, "|") != want {
		t.Errorf("mentions = %q, want %s", got, want)
	}
}
