module github.com/cliniconnects/identity/shared

go 1.25.0
