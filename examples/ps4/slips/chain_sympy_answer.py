a_expr = x**2 + sigma(y)
b_expr = 3 * x + y - sigma(x)
da_dx, da_dy = 2 * x, sigma(y) * (1 - sigma(y))          # sigma' = sigma (1 - sigma)
db_dx, db_dy = 3 - sigma(x) * (1 - sigma(x)), sp.Integer(1)
df_dx = da_dx / b_expr - a_expr * db_dx / b_expr**2      # quotient rule
df_dy = da_dy / b_expr + a_expr * db_dy / b_expr**2      # sign slip in the quotient rule
grad_at_10 = (float(df_dx.subs({x: 1, y: 0})), float(df_dy.subs({x: 1, y: 0})))
print(grad_at_10)
