package api

import (
	"errors"
	"testing"
)

func TestCheckText(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
	}{
		{`{"a":"plain"}`, true},
		{`{"a":"é😀"}`, true},
		{`{"a":"\ud83d\ude00"}`, true},
		{`{"a":"\\ud800"}`, true}, // an escaped backslash, then text
		{`{"a":"\u00e9\n\"\\"}`, true},
		{"{\"a\":\"\xff\"}", false},
		{"{\"a\":\"\xed\xa0\x80\"}", false},
		{`{"a":"\ud800"}`, false},
		{`{"a":"\ud800\u0041"}`, false},
		{`{"a":"\udfff"}`, false},
		{`{"a":"\ud83d`, false},
	}
	for _, tc := range cases {
		err := checkText([]byte(tc.body))
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errNotText)) {
			t.Errorf("%q: %v", tc.body, err)
		}
	}
}
