export const addTwo = (n) => n + 2;
