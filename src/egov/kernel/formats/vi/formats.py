# Django's Vietnamese formats name the separators (. for thousands, , for decimals) but no grouping, so a number
# formatted for people ("3.321 xã", "10.000 ký tự", "1.200.000 đồng") came out ungrouped: "3321". Vietnamese groups
# by three.
NUMBER_GROUPING = 3
