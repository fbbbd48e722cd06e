# the sheet's (48) as printed: the expected square error over 2 sigma_z^2
bound48_1d = (sp.log(s2z_s) / 2 - sp.log(s2x_s) / 2 - ((x_s - A_s * m_s - b_s) ** 2 + s2z_s * A_s ** 2) / (2 * s2z_s)
              - (s2z_s + m_s ** 2) / 2 + sp.Rational(1, 2) - sp.log(2 * sp.pi) / 2)
