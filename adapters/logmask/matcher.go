package logmask

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

// Mask is what replaces a secret's value.
const Mask = "***"

// MinSecretLen is the length under which a value is not masked: a secret
// of one to three bytes occurs by chance in most lines, and masking it
// would destroy the log without hiding much.
const MinSecretLen = 4

// minBase64Core is the shortest base64 form masked: base64 is matched with
// its case, and shorter runs of its alphabet occur by chance in text.
const minBase64Core = 8

// Matcher finds the forms of a set of secret values in a line. It is
// immutable: safe for concurrent use.
type Matcher struct {
	folded  []string // matched in any ASCII case: the value, percent and hex forms
	exact   []string // matched as they are: base64 forms
	longest int
}

// NewMatcher is the matcher of values; values shorter than MinSecretLen
// are left out.
func NewMatcher(values []string) *Matcher {
	m := &Matcher{}
	for _, v := range withTheirLines(values) {
		if len(v) < MinSecretLen {
			continue
		}
		m.folded = append(m.folded, asciiLower(v), asciiLower(url.QueryEscape(v)), asciiLower(url.PathEscape(v)), hex.EncodeToString([]byte(v)))
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for align := range 3 {
				if core := base64Core(enc, v, align); len(core) >= minBase64Core {
					m.exact = append(m.exact, core)
				}
			}
		}
	}
	m.folded, m.exact = unique(m.folded), unique(m.exact)
	for _, p := range slices.Concat(m.folded, m.exact) {
		m.longest = max(m.longest, len(p))
	}
	return m
}

// withTheirLines is values and, for a value of several lines (a private
// key, a certificate), each of its lines: a log holds such a value one line
// at a time, and never whole in one line.
func withTheirLines(values []string) []string {
	out := slices.Clone(values)
	for _, v := range values {
		if strings.Contains(v, "\n") {
			for l := range strings.Lines(v) {
				out = append(out, strings.TrimRight(l, "\r\n"))
			}
		}
	}
	return out
}

// maxCarry bounds what is kept of a line for the next one of its stream:
// a value whose form is longer is caught only within one line (secrets
// may be 64 KiB; a few of them in every stream of every run kept would not
// be a small cost).
const maxCarry = 1024

// Empty reports whether m masks nothing.
func (m *Matcher) Empty() bool { return m == nil || m.longest == 0 }

// base64Core is the part of the base64 form of v, when v starts align
// bytes into what is encoded, that depends on v alone: it occurs in any
// base64 text that holds v at that alignment (a password in a basic
// authentication header, a token inside an encoded JSON).
func base64Core(enc *base64.Encoding, v string, align int) string {
	s := enc.EncodeToString(append(make([]byte, align), v...))
	from := (8*align + 5) / 6        // the first character all of whose bits are v's
	to := (8 * (align + len(v))) / 6 // after the last one
	if to <= from {
		return ""
	}
	return s[from:to]
}

// Line masks every form of every value in line. carry is the end of the
// previous line of the same stream (what Line returned as next for it, ""
// for the first): a value cut by the line break is masked in this line's
// part. Where this line ends with at least half of a value's start (and
// at least MinSecretLen bytes), those bytes are masked too, since the next
// line may hold the rest. next is what to pass with the next line.
func (m *Matcher) Line(line, carry string) (masked, next string) {
	if m.Empty() {
		return line, ""
	}
	joined := carry + line
	var spans [][2]int
	lower := asciiLower(joined)
	for _, p := range m.folded {
		spans = appendMatches(spans, lower, p)
	}
	for _, p := range m.exact {
		spans = appendMatches(spans, joined, p)
	}
	// Spans in the carry alone were masked with the previous line.
	own := spans[:0]
	for _, s := range spans {
		if s[1] > len(carry) {
			own = append(own, [2]int{max(s[0], len(carry)) - len(carry), s[1] - len(carry)})
		}
	}
	own = append(own, m.cutStarts(lower[len(carry):])...)
	masked = replaceSpans(line, own)
	keep := min(len(joined), m.longest-1, maxCarry)
	return masked, joined[len(joined)-keep:]
}

// cutStarts are the ends of line that are the start of a value, cut by
// the line break: at least half the value and MinSecretLen bytes.
func (m *Matcher) cutStarts(lower string) [][2]int {
	var out [][2]int
	for _, p := range m.folded {
		for n := min(len(p)-1, len(lower)); n >= MinSecretLen && 2*n >= len(p); n-- {
			if strings.HasSuffix(lower, p[:n]) {
				out = append(out, [2]int{len(lower) - n, len(lower)})
				break
			}
		}
	}
	return out
}

func appendMatches(spans [][2]int, s, p string) [][2]int {
	for from := 0; ; {
		i := strings.Index(s[from:], p)
		if i < 0 {
			return spans
		}
		spans = append(spans, [2]int{from + i, from + i + len(p)})
		from += i + 1
	}
}

// replaceSpans replaces each run of overlapping spans of s with Mask.
func replaceSpans(s string, spans [][2]int) string {
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	at := 0
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= end; i++ {
			end = max(end, spans[i][1])
		}
		b.WriteString(s[at:start])
		b.WriteString(Mask)
		at = end
	}
	b.WriteString(s[at:])
	return b.String()
}

// asciiLower lowers ASCII letters only, so that offsets in the result are
// offsets in s (and the lower of a joined string is the join of the
// lowers). It copies s once at most, and not at all when s has no upper
// case letter: it runs on every line of a run with secrets.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
