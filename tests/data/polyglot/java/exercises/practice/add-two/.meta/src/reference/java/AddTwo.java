class AddTwo {
    static int addTwo(int n) {
        return Plus.plus(n, 2);
    }
}
