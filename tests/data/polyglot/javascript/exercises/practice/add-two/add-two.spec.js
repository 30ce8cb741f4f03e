import { addTwo } from './add-two';

describe('addTwo', () => {
  test('zero', () => {
    expect(addTwo(0)).toEqual(2);
  });

  xtest('negative', () => {
    expect(addTwo(-5)).toEqual(-3);
  });
});
