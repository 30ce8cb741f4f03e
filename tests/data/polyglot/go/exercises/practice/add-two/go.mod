module addtwo

go 1.18
