package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Client is a typed client of Conveyor's REST API. Safe for concurrent use.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// ClientOption configures a Client.
type ClientOption func(*Client) error

// WithBaseURL sets the server's URL, e.g. "http://127.0.0.1:8080".
func WithBaseURL(u string) ClientOption {
	return func(c *Client) error {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme == "" || parsed.Host == "" {
			return fmt.Errorf("sdk: %q is not an http(s) URL", u)
		}
		c.base = strings.TrimRight(u, "/")
		return nil
	}
}

// WithHTTPClient sets the HTTP client (default: 30s timeout).
func WithHTTPClient(h *http.Client) ClientOption {
	return func(c *Client) error {
		if h == nil {
			return errors.New("sdk: nil http client")
		}
		c.http = h
		return nil
	}
}

// WithToken sets the API token sent as a bearer token with every request
// (default: CONVEYOR_TOKEN).
func WithToken(secret string) ClientOption {
	return func(c *Client) error {
		c.token = strings.TrimSpace(secret)
		return nil
	}
}

// NewClient returns a client of the server named by CONVEYOR_SERVER_HOST
// (default "localhost"; it may carry a scheme such as https://) and
// CONVEYOR_SERVER_PORT (default 8080), unless WithBaseURL says otherwise,
// with the token of CONVEYOR_TOKEN unless WithToken says otherwise. It
// trusts the CA certificate named by CONVEYOR_CA_CERT, if any.
func NewClient(opts ...ClientOption) (*Client, error) {
	c := &Client{base: BaseURLFromEnv(os.Getenv), http: &http.Client{Timeout: 30 * time.Second}, token: strings.TrimSpace(os.Getenv("CONVEYOR_TOKEN"))}
	if ca := os.Getenv(EnvCACert); ca != "" {
		opts = append([]ClientOption{WithCACert(ca)}, opts...)
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// BaseURLFromEnv builds the server URL from CONVEYOR_SERVER_HOST and
// CONVEYOR_SERVER_PORT as getenv returns them.
func BaseURLFromEnv(getenv func(string) string) string {
	host, port := getenv("CONVEYOR_SERVER_HOST"), getenv("CONVEYOR_SERVER_PORT")
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "8080"
	}
	scheme := "http://"
	if i := strings.Index(host, "://"); i >= 0 {
		scheme, host = host[:i+3], host[i+3:]
	}
	host = strings.TrimRight(host, "/")
	if _, _, err := splitHostPort(host); err == nil {
		return scheme + host
	}
	return scheme + host + ":" + port
}

func splitHostPort(h string) (string, string, error) {
	i := strings.LastIndex(h, ":")
	if i < 0 || strings.HasSuffix(h, "]") {
		return "", "", errors.New("no port")
	}
	return h[:i], h[i+1:], nil
}

// BaseURL is the server's URL.
func (c *Client) BaseURL() string { return c.base }

// Sentinel errors an *APIError matches with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// APIError is an RFC 9457 problem the server answered.
type APIError struct {
	Status int           `json:"status"`
	Title  string        `json:"title"`
	Detail string        `json:"detail"`
	Errors []ErrorDetail `json:"errors,omitempty"`
}

// ErrorDetail is one problem with one location of the request.
type ErrorDetail struct {
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	Value    any    `json:"value,omitempty"`
}

func (e *APIError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	return fmt.Sprintf("%d %s", e.Status, msg)
}

// Is matches ErrNotFound (404), ErrConflict (409) and ErrInvalid (400, 422).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrInvalid:
		return e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusBadRequest
	}
	return false
}

// do sends in (when not nil) as JSON and decodes the answer into out (when
// not nil and the answer has a body; a 204 has none).
func (c *Client) do(ctx context.Context, method, path string, in, out any, headers ...string) (http.Header, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.authorize(req.Header)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.Header, err
	}
	if resp.StatusCode >= 400 {
		apiErr := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Status == 0 {
			apiErr.Status, apiErr.Title = resp.StatusCode, http.StatusText(resp.StatusCode)
			apiErr.Detail = strings.TrimSpace(string(data))
		}
		return resp.Header, apiErr
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.Header, fmt.Errorf("sdk: decode answer of %s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// Page asks for one page of a list.
type Page struct {
	Limit    int
	Continue string
}

func (p Page) query(q url.Values) string {
	if p.Limit > 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	if p.Continue != "" {
		q.Set("continue", p.Continue)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// List is one page of items and the token of the next ("" on the last).
type List[T any] struct {
	Items    []T    `json:"items"`
	Continue string `json:"continue"`
}

// ErrPagingLoop is returned by All when a server hands back a continue
// token it gave before: following it would never end.
var ErrPagingLoop = errors.New("sdk: the server returned a continue token it had returned before")

// All walks every page that list returns, starting from the first. A token
// seen before ends it with ErrPagingLoop rather than looping for ever.
func All[T any](ctx context.Context, list func(context.Context, Page) (List[T], error)) ([]T, error) {
	var out []T
	p := Page{}
	seen := map[string]bool{}
	for {
		page, err := list(ctx, p)
		if err != nil {
			return out, err
		}
		out = append(out, page.Items...)
		if page.Continue == "" {
			return out, nil
		}
		if seen[page.Continue] {
			return out, fmt.Errorf("%w: %q", ErrPagingLoop, page.Continue)
		}
		seen[page.Continue] = true
		p.Continue = page.Continue
	}
}

func esc(s string) string { return url.PathEscape(s) }

// authorize adds the client's token, if it has one, to h.
func (c *Client) authorize(h http.Header) {
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
}
