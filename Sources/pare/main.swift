print("pare")
