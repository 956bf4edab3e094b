// Package ui is the admin app's screens and their view models: the
// first-run provider screen, sign-in, and the sections Employees,
// Clinicians, Admins, Clients and Audit, each shown only when the
// signed-in user's permissions (GET /admin/v1/me) allow it.
//
// It never imports fyne.io/fyne/v2/app (only package main does), so the
// tests run on Fyne's headless test driver without cgo. Every network call
// runs on its own goroutine; its result is applied on the UI goroutine
// through Deps.Do, which is fyne.Do in the app.
package ui
