//! The Telegraf plugin catalogue `GET /api/v2/telegraf/plugins` serves: the
//! plugins InfluxDB's UI offers when it writes a Telegraf configuration, each
//! with a short description and a sample configuration block.

/// (type, name, description, sample TOML).
pub(crate) const PLUGINS: &[(&str, &str, &str, &str)] = &[
    (
        "input",
        "cpu",
        "Read metrics about CPU usage",
        "[[inputs.cpu]]\n  ## Report per-CPU figures\n  percpu = true\n  ## Report the total over all CPUs\n  totalcpu = true\n  ## Also collect raw CPU time\n  collect_cpu_time = false\n  ## Compute and report the sum of all non-idle states\n  report_active = false\n",
    ),
    (
        "input",
        "disk",
        "Read metrics about disk usage by mount point",
        "[[inputs.disk]]\n  ## Only these mount points (all by default)\n  # mount_points = [\"/\"]\n  ## Skip these filesystem types\n  ignore_fs = [\"tmpfs\", \"devtmpfs\", \"devfs\", \"iso9660\", \"overlay\", \"aufs\", \"squashfs\"]\n",
    ),
    (
        "input",
        "diskio",
        "Read metrics about disk IO by device",
        "[[inputs.diskio]]\n  ## Only these devices (all by default)\n  # devices = [\"sda\", \"sdb\"]\n  ## Do not gather serial numbers\n  # skip_serial_number = false\n",
    ),
    (
        "input",
        "docker",
        "Read metrics about docker containers",
        "[[inputs.docker]]\n  ## Docker endpoint\n  endpoint = \"unix:///var/run/docker.sock\"\n  ## Containers to include and exclude (globs)\n  container_name_include = []\n  container_name_exclude = []\n  ## Timeout for docker list, info and stats calls\n  timeout = \"5s\"\n",
    ),
    (
        "input",
        "file",
        "Parse a complete file each interval",
        "[[inputs.file]]\n  ## Files to parse each interval (globs allowed)\n  files = [\"/tmp/metrics.out\"]\n  ## The data format of the files\n  data_format = \"influx\"\n",
    ),
    ("input", "kernel", "Get kernel statistics from /proc/stat", "[[inputs.kernel]]\n  # no configuration\n"),
    (
        "input",
        "kubernetes",
        "Read metrics from the kubernetes kubelet api",
        "[[inputs.kubernetes]]\n  ## URL of the kubelet\n  url = \"http://127.0.0.1:10255\"\n  ## Bearer token for the kubelet API\n  # bearer_token = \"/path/to/bearer/token\"\n  ## Set response timeout\n  # response_timeout = \"5s\"\n",
    ),
    (
        "input",
        "logparser",
        "Stream and parse log files",
        "[[inputs.logparser]]\n  ## Log files to parse (globs allowed)\n  files = [\"/var/log/apache/access.log\"]\n  ## Read files from the beginning\n  from_beginning = false\n  [inputs.logparser.grok]\n    patterns = [\"%{COMBINED_LOG_FORMAT}\"]\n    measurement = \"apache_access_log\"\n",
    ),
    ("input", "mem", "Read metrics about memory usage", "[[inputs.mem]]\n  # no configuration\n"),
    (
        "input",
        "net",
        "Read metrics about network interface usage",
        "[[inputs.net]]\n  ## Only these interfaces (all but loopback and virtual ones by default)\n  # interfaces = [\"eth0\"]\n  ## Do not report protocol statistics\n  # ignore_protocol_stats = false\n",
    ),
    (
        "input",
        "net_response",
        "Collect response time of a TCP or UDP connection",
        "[[inputs.net_response]]\n  ## Protocol: tcp or udp\n  protocol = \"tcp\"\n  ## Server address (host:port)\n  address = \"localhost:80\"\n  ## Set timeout\n  # timeout = \"1s\"\n",
    ),
    (
        "input",
        "nginx",
        "Read Nginx's basic status information (ngx_http_stub_status_module)",
        "[[inputs.nginx]]\n  ## An array of Nginx stub_status URIs to gather stats from\n  urls = [\"http://localhost/server_status\"]\n  ## HTTP response timeout\n  response_timeout = \"5s\"\n",
    ),
    (
        "input",
        "processes",
        "Get the number of processes and group them by status",
        "[[inputs.processes]]\n  # no configuration\n",
    ),
    (
        "input",
        "procstat",
        "Monitor process cpu and memory usage",
        "[[inputs.procstat]]\n  ## A PID file to read the PID from\n  # pid_file = \"/var/run/nginx.pid\"\n  ## Or an executable name to match\n  exe = \"nginx\"\n  ## Or a pattern of the full command line\n  # pattern = \"nginx\"\n",
    ),
    (
        "input",
        "prometheus",
        "Read metrics from one or many prometheus clients",
        "[[inputs.prometheus]]\n  ## An array of URLs to scrape metrics from\n  urls = [\"http://localhost:9100/metrics\"]\n  ## Metric version 2 maps each sample to a field named after the metric\n  metric_version = 2\n",
    ),
    (
        "input",
        "redis",
        "Read metrics from one or many redis servers",
        "[[inputs.redis]]\n  ## Redis server URLs: tcp://[:password]@host:port, unix socket paths\n  servers = [\"tcp://localhost:6379\"]\n",
    ),
    ("input", "swap", "Read metrics about swap memory usage", "[[inputs.swap]]\n  # no configuration\n"),
    (
        "input",
        "syslog",
        "Accept syslog messages following RFC5424 format with transports as per RFC5426, RFC5425, or RFC6587",
        "[[inputs.syslog]]\n  ## Protocol, address and port to listen on\n  server = \"tcp://:6514\"\n",
    ),
    ("input", "system", "Read metrics about system load and uptime", "[[inputs.system]]\n  # no configuration\n"),
    (
        "input",
        "tail",
        "Stream a log file, like the tail -f command",
        "[[inputs.tail]]\n  ## Files to tail (globs allowed)\n  files = [\"/var/mymetrics.out\"]\n  ## Read files from the beginning\n  from_beginning = false\n  ## The data format of the lines\n  data_format = \"influx\"\n",
    ),
    (
        "input",
        "http",
        "Read formatted metrics from one or more HTTP endpoints",
        "[[inputs.http]]\n  ## One or more URLs to read formatted metrics from\n  urls = [\"http://localhost/metrics\"]\n  ## HTTP method\n  # method = \"GET\"\n  ## The data format of the response\n  data_format = \"influx\"\n",
    ),
    (
        "input",
        "ping",
        "Ping given url(s) and return statistics",
        "[[inputs.ping]]\n  ## Hosts to send ping packets to\n  urls = [\"example.org\"]\n  ## Number of ping packets to send per interval\n  # count = 1\n",
    ),
    (
        "input",
        "mysql",
        "Read metrics from one or many mysql servers",
        "[[inputs.mysql]]\n  ## Data source names: [username[:password]@][protocol[(address)]]/[?tls=[true|false|skip-verify]]\n  servers = [\"root@tcp(127.0.0.1:3306)/\"]\n",
    ),
    (
        "input",
        "postgresql",
        "Read metrics from one or many postgresql servers",
        "[[inputs.postgresql]]\n  ## A libpq connection string or URL\n  address = \"host=localhost user=postgres sslmode=disable\"\n",
    ),
    (
        "input",
        "influxdb_listener",
        "Accept metrics over InfluxDB 1.x HTTP API",
        "[[inputs.influxdb_listener]]\n  ## Address and port to host HTTP listener on\n  service_address = \":8186\"\n",
    ),
    (
        "input",
        "socket_listener",
        "Generic socket listener capable of handling multiple socket types",
        "[[inputs.socket_listener]]\n  ## URL to listen on\n  service_address = \"tcp://:8094\"\n  ## The data format of what arrives\n  data_format = \"influx\"\n",
    ),
    (
        "output",
        "influxdb_v2",
        "Configuration for sending metrics to InfluxDB 2.x (or oxiflux)",
        "[[outputs.influxdb_v2]]\n  ## The URLs of the InfluxDB 2.x (or oxiflux) server\n  urls = [\"http://127.0.0.1:8086\"]\n  ## API token\n  token = \"$INFLUX_TOKEN\"\n  ## Organization: the name of the org to write to\n  organization = \"\"\n  ## Destination bucket\n  bucket = \"\"\n",
    ),
    (
        "output",
        "file",
        "Send telegraf metrics to file(s)",
        "[[outputs.file]]\n  ## Files to write to, \"stdout\" is a specially handled file\n  files = [\"stdout\"]\n  ## The data format to write\n  data_format = \"influx\"\n",
    ),
    (
        "output",
        "prometheus_client",
        "Configuration for the Prometheus client to spawn",
        "[[outputs.prometheus_client]]\n  ## Address to listen on\n  listen = \":9273\"\n",
    ),
    (
        "processor",
        "converter",
        "Convert values to another metric value type",
        "[[processors.converter]]\n  [processors.converter.fields]\n    ## Fields to convert to integers\n    integer = []\n    ## Fields to convert to floats\n    float = []\n",
    ),
    (
        "processor",
        "rename",
        "Rename measurements, tags, and fields that pass through this filter",
        "[[processors.rename]]\n  [[processors.rename.replace]]\n    measurement = \"network_interface_throughput\"\n    dest = \"throughput\"\n",
    ),
    (
        "processor",
        "regex",
        "Transform tag and field values with regex pattern",
        "[[processors.regex]]\n  [[processors.regex.tags]]\n    key = \"resp_code\"\n    pattern = \"^(\\\\d)\\\\d\\\\d$\"\n    replacement = \"${1}xx\"\n",
    ),
    (
        "aggregator",
        "basicstats",
        "Keep the aggregate basicstats of each metric passing through",
        "[[aggregators.basicstats]]\n  ## The period on which to flush and reset the aggregate\n  period = \"30s\"\n  ## Drop the original metrics\n  drop_original = false\n  ## Statistics to compute\n  # stats = [\"count\", \"min\", \"max\", \"mean\", \"stdev\", \"s2\", \"sum\"]\n",
    ),
    (
        "aggregator",
        "minmax",
        "Keep the aggregate min/max of each metric passing through",
        "[[aggregators.minmax]]\n  ## The period on which to flush and reset the aggregate\n  period = \"30s\"\n  ## Drop the original metrics\n  drop_original = false\n",
    ),
    (
        "aggregator",
        "histogram",
        "Create aggregate histograms",
        "[[aggregators.histogram]]\n  ## The period on which to flush and reset the aggregate\n  period = \"30s\"\n  [[aggregators.histogram.config]]\n    buckets = [0.0, 10.0, 50.0, 100.0]\n    measurement_name = \"cpu\"\n",
    ),
    (
        "bundle",
        "System Bundle",
        "Collection of system related inputs",
        "[[inputs.cpu]]\n  percpu = true\n  totalcpu = true\n[[inputs.disk]]\n  ignore_fs = [\"tmpfs\", \"devtmpfs\", \"devfs\", \"overlay\", \"aufs\", \"squashfs\"]\n[[inputs.diskio]]\n[[inputs.mem]]\n[[inputs.net]]\n[[inputs.processes]]\n[[inputs.swap]]\n[[inputs.system]]\n",
    ),
];

/// The version of Telegraf the catalogue describes.
pub(crate) const VERSION: &str = "1.28.0";
