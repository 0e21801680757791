module webfcgi.bench/gofcgi

go 1.19
