package domain

import "regexp"

// NameRule states, in words, the rule every name of a definition, resource,
// pipeline, step and driver must follow. Names become NATS subject tokens and
// etcd key segments.
const NameRule = "must be 1 to 63 characters of lower-case letters, digits, '-' and '_', starting and ending with a letter or digit"

// NamePattern is NameRule as a regular expression (RE2 and ECMA-262 alike).
const NamePattern = `^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$`

var namePattern = regexp.MustCompile(NamePattern)

// ValidName reports whether name follows NameRule.
func ValidName(name string) bool { return namePattern.MatchString(name) }

// CheckName returns a *ValidationError for field when name breaks NameRule.
func CheckName(field, name string) error {
	if ValidName(name) {
		return nil
	}
	if name == "" {
		return Invalid(field, "is required and "+NameRule)
	}
	return Invalid(field, NameRule)
}
