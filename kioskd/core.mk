# kioskd core foundation (msg, proc, config)
