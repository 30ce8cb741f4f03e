use add_two::add_two;

#[test]
fn zero() {
    assert_eq!(add_two(0), 2);
}

#[test]
#[ignore]
fn negative() {
    assert_eq!(add_two(-5), -3);
}
