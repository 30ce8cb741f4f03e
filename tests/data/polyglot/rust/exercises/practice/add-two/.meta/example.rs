pub fn add_two(n: i64) -> i64 {
    n + 2
}
