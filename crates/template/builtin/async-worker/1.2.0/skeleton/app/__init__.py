"""{{ name }}: {{ description }}"""
