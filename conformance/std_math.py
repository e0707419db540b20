# math module basics shared by MicroPython and CPython (floats rounded so
# the printed digits agree).
import math

print(round(math.pi, 6), round(math.e, 6))
print(math.sqrt(16), math.sqrt(2) == 2 ** 0.5)
print(math.floor(2.7), math.ceil(2.1), math.floor(-2.5), math.ceil(-2.5))
print(type(math.floor(2.7)).__name__, type(math.ceil(1.2)).__name__)
print(math.trunc(-3.9), math.fabs(-4.5), math.copysign(3, -0.0))
print(round(math.sin(math.pi / 2), 9), round(math.cos(0), 9))
print(round(math.atan2(1, 1) * 4, 9) == round(math.pi, 9))
print(round(math.log(math.e), 9), math.log10(1000), math.log2(1024), round(math.log(8, 2), 9))
print(round(math.exp(1), 6), math.pow(2, 10), round(math.radians(180), 6), round(math.degrees(math.pi), 6))
print(math.isnan(math.nan), math.isinf(math.inf), math.isinf(-math.inf), math.isfinite(1.0))
print(math.fmod(7, 3), math.fmod(-7, 3), math.modf(2.5), math.frexp(8.0), math.ldexp(0.5, 4))
print(math.factorial(10), math.isclose(0.1 + 0.2, 0.3))
try:
    math.sqrt(-1)
except ValueError as e:
    print("sqrt(-1):", type(e).__name__)
print("done")
