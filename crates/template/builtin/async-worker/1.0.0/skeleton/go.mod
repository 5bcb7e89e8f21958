module github.com/{{ org }}/{{ name }}

go 1.22
