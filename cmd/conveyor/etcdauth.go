package main

import "net/url"

// etcdCredentials takes user:password out of etcd endpoint URLs: the etcd
// client ignores them there, and takes them as a username and password
// instead. The endpoints it returns carry no credentials, so they can be
// logged.
func etcdCredentials(endpoints []string) (clean []string, user, password string) {
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || u.User == nil {
			clean = append(clean, e)
			continue
		}
		if user == "" {
			user = u.User.Username()
			password, _ = u.User.Password()
		}
		u.User = nil
		clean = append(clean, u.String())
	}
	return clean, user, password
}
