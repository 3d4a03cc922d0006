package api

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// errNotText is why a body whose bytes are not text is refused.
var errNotText = errors.New("the body must be UTF-8 text, and a \\u escape of a surrogate must be half of a pair")

// checkText refuses a body that is not valid UTF-8, or that escapes half of
// a UTF-16 surrogate pair ("\ud800" alone). encoding/json replaces both with
// U+FFFD without a word, so what was stored would differ from what was
// sent. The error says at which byte.
func checkText(data []byte) error {
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, size := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return fmt.Errorf("%w: invalid UTF-8 at byte %d", errNotText, at)
	}
	// A backslash is valid JSON only inside a string, where it starts an
	// escape; a body that has one elsewhere fails to parse anyway.
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if i+1 >= len(data) || data[i+1] != 'u' {
			i++ // a two-byte escape such as \\ or \"
			continue
		}
		code, ok := escapedUnit(data, i)
		switch {
		case !ok:
			i += 1 // malformed: the parser says so
		case code >= 0xD800 && code <= 0xDBFF:
			low, ok := escapedUnit(data, i+6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return fmt.Errorf("%w: a lone high surrogate \\u%04x at byte %d", errNotText, code, i)
			}
			i += 11
		case code >= 0xDC00 && code <= 0xDFFF:
			return fmt.Errorf("%w: a lone low surrogate \\u%04x at byte %d", errNotText, code, i)
		default:
			i += 5
		}
	}
	return nil
}

// escapedUnit reads the UTF-16 unit of a \uXXXX escape at data[i:].
func escapedUnit(data []byte, i int) (uint64, bool) {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return 0, false
	}
	code, err := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
	return code, err == nil
}
