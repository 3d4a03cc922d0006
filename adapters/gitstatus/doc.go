// Package gitstatus posts commit statuses to GitHub, GitLab and Gitea: what
// a trigger's report says of each run it started. It satisfies
// engine.StatusPoster and imports domain and engine of this project.
package gitstatus
