// Package doccheck finds the citations of the protocol reference in the repository's
// text: the anchors docs/protocol.md defines, the docs/protocol.md#<anchor> references
// that code and documents make, and references to protocol notes that are not part
// of the repository (a spec folder, the names of its files, a "digest"). Its tests
// walk the repository and hold every citation to an existing anchor.
package doccheck

import (
	"bufio"
	"bytes"
	"regexp"
)

// Ref is one match in a text, with its 1-based line.
type Ref struct {
	Line int
	Text string // the anchor for citations, the matched text otherwise
}

var (
	anchorRE = regexp.MustCompile(`<a id="([^"]+)"></a>`)
	// citeRE matches protocol.md#<anchor> as cited from anywhere (docs/protocol.md#…
	// in code, protocol.md#… from docs/). protocol-decisions.md does not match.
	citeRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])protocol\.md#([A-Za-z0-9][A-Za-z0-9_-]*)`)
	// selfRE matches a link to an anchor of the same page: ](#anchor).
	selfRE = regexp.MustCompile(`\]\(#([A-Za-z0-9][A-Za-z0-9_-]*)\)`)

	// pathRE matches a path into a spec folder or to a file of the notes the
	// project started from; such a path is foreign unless it exists.
	pathRE = regexp.MustCompile(`(?:[A-Za-z0-9_.-]+/)*spec/[A-Za-z0-9_.-]+|(?:[A-Za-z0-9_.-]+/)*(?:saas-basic|signatures-and-crypto|license-order-kit|functiongraph)\.md`)
	// foreignRE matches citations of those notes that name no path.
	foreignRE = []*regexp.Regexp{
		regexp.MustCompile(`\bspec\s+(?:§|README\b|tables?\b|saas-basic\b|signatures-and-crypto\b|license-order-kit\b|functiongraph\b)`),
		regexp.MustCompile(`(?i)\b(?:from|in|per|see) the spec\b`),
		regexp.MustCompile(`\b(?:saas-basic|signatures-and-crypto|license-order-kit)\s+§`),
		regexp.MustCompile(`(?i)\bprotocol\s+digest\b`),
		regexp.MustCompile(`/work/[s]hared\b`), // a bracket, so this line does not match itself
	}
)

// lines calls f for every line of text with its 1-based number.
func lines(text []byte, f func(n int, line []byte)) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		f(n, sc.Bytes())
	}
}

// Anchors returns the explicit anchors (<a id="…"></a>) of a Markdown document and how
// often each is defined.
func Anchors(md []byte) map[string]int {
	out := map[string]int{}
	for _, m := range anchorRE.FindAllSubmatch(md, -1) {
		out[string(m[1])]++
	}
	return out
}

// Citations returns every protocol.md#<anchor> reference in text.
func Citations(text []byte) []Ref { return firstGroups(text, citeRE) }

// SelfLinks returns every link to an anchor of the same page, ](#anchor).
func SelfLinks(md []byte) []Ref { return firstGroups(md, selfRE) }

// firstGroups returns the first capture group of every match of re, by line.
func firstGroups(text []byte, re *regexp.Regexp) []Ref {
	var out []Ref
	lines(text, func(n int, line []byte) {
		for _, m := range re.FindAllSubmatch(line, -1) {
			out = append(out, Ref{Line: n, Text: string(m[1])})
		}
	})
	return out
}

// Foreign returns the references in text to protocol notes outside the repository.
// exists reports whether a path named in the text is part of the repository; a path
// that exists is not foreign.
func Foreign(text []byte, exists func(path string) bool) []Ref {
	var out []Ref
	lines(text, func(n int, line []byte) {
		for _, m := range pathRE.FindAll(line, -1) {
			if !exists(string(m)) {
				out = append(out, Ref{Line: n, Text: string(m)})
			}
		}
		for _, re := range foreignRE {
			for _, m := range re.FindAll(line, -1) {
				out = append(out, Ref{Line: n, Text: string(m)})
			}
		}
	})
	return out
}
