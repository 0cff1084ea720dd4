fro(bucket: "metrics")
