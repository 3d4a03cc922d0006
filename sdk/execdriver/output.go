package execdriver

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxOutput bounds the file of $CONVEYOR_OUTPUT: a result's data may be
// 64 KiB as JSON (docs/api.md), and the driver adds the exit code and last
// lines.
const maxOutput = 48 << 10

// readOutput reads the file a script wrote its result's data into: lines
// `key=value`, and `key<<DELIMITER`, then the value's lines, then a line
// DELIMITER alone. Blank lines are skipped; a key written twice keeps its
// last value.
func readOutput(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxOutput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxOutput {
		return nil, fmt.Errorf("$CONVEYOR_OUTPUT holds more than %d KiB", maxOutput>>10)
	}
	return parseOutput(data)
}

// parseOutput reads the lines of readOutput.
func parseOutput(data []byte) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(string(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case heredoc > 0 && (eq < 0 || heredoc < eq):
			key, delim := line[:heredoc], line[heredoc+2:]
			if err := checkKey(key, i+1); err != nil {
				return nil, err
			}
			if strings.TrimSpace(delim) == "" {
				return nil, fmt.Errorf("$CONVEYOR_OUTPUT line %d: %s<< names no delimiter", i+1, key)
			}
			start := i + 1
			for i++; i < len(lines) && lines[i] != delim; i++ {
			}
			if i == len(lines) {
				return nil, fmt.Errorf("$CONVEYOR_OUTPUT line %d: %s<<%s never ends (no line %s)", start, key, delim, delim)
			}
			out[key] = strings.Join(lines[start:i], "\n")
		case eq > 0:
			key := line[:eq]
			if err := checkKey(key, i+1); err != nil {
				return nil, err
			}
			out[key] = line[eq+1:]
		default:
			return nil, fmt.Errorf("$CONVEYOR_OUTPUT line %d is neither key=value nor key<<DELIMITER", i+1)
		}
	}
	return out, nil
}

// checkKey allows letters, digits, _ and - in a key, and not the keys the
// driver sets.
func checkKey(key string, line int) error {
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("$CONVEYOR_OUTPUT line %d: key %q may hold only letters, digits, _ and -", line, key)
		}
	}
	if key == keyExitCode || key == keyLastLines {
		return fmt.Errorf("$CONVEYOR_OUTPUT line %d: %s is the driver's own key", line, key)
	}
	return nil
}
