// Package config owns the provider's configuration: environment variables
// with matching command-line flags, their defaults, and validation that
// names the offending setting in one line.
package config
