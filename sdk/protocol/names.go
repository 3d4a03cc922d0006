package protocol

// ValidName reports whether s follows the rule of the names of drivers and
// resource types, which subjects carry as tokens: 1 to 63 lower-case
// letters, digits, '-' or '_', starting and ending with a letter or digit.
func ValidName(s string) bool { return validToken(s, 63) }

// validToken reports whether s follows the rule of names and is at most
// limit long.
func validToken(s string, limit int) bool {
	if len(s) < 1 || len(s) > limit {
		return false
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || ((c == '-' || c == '_') && i > 0 && i < len(s)-1)
		if !ok {
			return false
		}
	}
	return true
}
