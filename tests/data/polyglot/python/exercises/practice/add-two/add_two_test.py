import unittest

from add_two import add_two


class AddTwoTest(unittest.TestCase):
    def test_zero(self):
        self.assertEqual(add_two(0), 2)

    def test_negative(self):
        self.assertEqual(add_two(-5), -3)
