module github.com/cliniconnects/identity/migrations

go 1.25.0
