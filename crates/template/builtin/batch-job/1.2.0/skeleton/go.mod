module {{ 'gitlab.com' if ci == 'gitlab' else 'github.com' }}/{{ org }}/{{ name }}

go 1.26
