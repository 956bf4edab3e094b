package auth

import (
	"html/template"
	"net/http"
)

// What the browser shows after the redirect to the loopback listener.
const (
	pageDone       = "You are signed in. You can close this tab and return to the app."
	pageDenied     = "Sign-in did not complete. Return to the app to see why and try again."
	pageWrongState = "This sign-in link does not belong to the sign-in the app is waiting for. Return to the app and start again."
	pageUsed       = "This sign-in has already completed. You can return to the app."
)

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CliniConnects Admin</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>
</head><body><h1>CliniConnects Admin</h1><p>{{.}}</p></body></html>
`))

func writePage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	pageTmpl.Execute(w, msg) //nolint:errcheck // the browser went away
}
