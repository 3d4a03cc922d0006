package execdriver

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/conveyor/conveyor/sdk"
)

// EnvName is prefix and name upper-cased, with _ for anything but letters
// and digits: registry-password → SECRET_REGISTRY_PASSWORD.
func EnvName(prefix, name string) string {
	return prefix + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

// StepEnv is the environment of a step's command: the driver's own,
// without its CONVEYOR_* variables (they hold its NATS credentials), then
// CONVEYOR_RUN_ID, CONVEYOR_STEP and CONVEYOR_ATTEMPT, then extra (later
// entries win), then each secret the step is granted as SECRET_{NAME}.
func StepEnv(req sdk.Request, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONVEYOR_") {
			env = append(env, kv)
		}
	}
	env = append(env, "CONVEYOR_RUN_ID="+req.RunID, "CONVEYOR_STEP="+req.Step, "CONVEYOR_ATTEMPT="+strconv.Itoa(req.Attempt))
	env = append(env, extra...)
	for name, value := range req.Secrets {
		env = append(env, EnvName("SECRET_", name)+"="+value)
	}
	return env
}

// checkEnvName refuses what cannot name a variable, and the names the
// driver sets itself.
func checkEnvName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "=\x00"):
		return fmt.Errorf("%q is not a variable name", name)
	case strings.HasPrefix(name, "CONVEYOR_") || strings.HasPrefix(name, "SECRET_"):
		return fmt.Errorf("%s: CONVEYOR_* and SECRET_* are set by the driver", name)
	}
	return nil
}
