MARK = "warm"
