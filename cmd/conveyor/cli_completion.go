package main

import (
	"fmt"
	"io"
	"strings"
)

// isHelp reports whether arg asks for a command's usage.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// completion prints a shell completion script for bash or zsh.
func completion(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprintln(stderr, "usage: conveyor completion bash|zsh\n\nsource <(conveyor completion bash) loads it into the running shell.")
		return exitOK
	}
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		fmt.Fprintln(stderr, "usage: conveyor completion bash|zsh")
		return exitUsage
	}
	commands := "server apply get delete runs run cancel retry approve reject logs events trace tokens drivers ready projections bench completion version"
	kindWords := "definitions pipelines resources runs"
	script := strings.NewReplacer("{{commands}}", commands, "{{kinds}}", kindWords).Replace(`# conveyor completion
_conveyor() {
  local cur prev
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "{{commands}}" -- "$cur"))
    return
  fi
  case "${COMP_WORDS[1]}" in
    get) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "{{kinds}}" -- "$cur")) ;;
    delete) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "definition pipeline resource" -- "$cur")) ;;
    projections) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "rebuild verify parked unpark" -- "$cur")) ;;
    drivers) [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "credentials" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")) ;;
    apply) [ "$prev" = "-f" ] && COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
  case "$prev" in
    -o) COMPREPLY=($(compgen -W "table json yaml" -- "$cur")) ;;
  esac
}
complete -F _conveyor conveyor
`)
	if args[0] == "zsh" {
		script = "autoload -U +X bashcompinit && bashcompinit\n" + script
	}
	fmt.Fprint(stdout, script)
	return exitOK
}
