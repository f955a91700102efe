module confdoracle

go 1.19
