using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace Meta.ComputeAccess.Testing;

/// <summary>
/// A real SMTP server process on loopback (Debian's python3-aiosmtpd) that writes every message it accepts as an
/// .eml file. Tests stop and restart it on the same port to play a mail server that goes away and comes back, make it
/// refuse chosen recipients (<see cref="Refuse"/>) or drop the connection, and count connections and recipient attempts.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    // Written next to the mail folder at start: aiosmtpd loads its handler class by import path. Every greeting (one per
    // connection) and every recipient is appended to events.log; refuse.txt (address TAB reply, re-read for each
    // recipient) makes the server refuse chosen recipients, or drop the connection at them ("drop").
    private const string Handler = """
        import os, uuid

        class EmlFolder:
            def __init__(self, folder):
                self.folder = folder
                self.root = os.path.dirname(os.path.abspath(folder))

            @classmethod
            def from_cli(cls, parser, *args):
                return cls(args[0])

            def log(self, *fields):
                with open(os.path.join(self.root, "events.log"), "a", encoding="utf-8") as f:
                    f.write("\t".join(str(x) for x in fields) + "\n")

            def rule(self, address):
                try:
                    with open(os.path.join(self.root, "refuse.txt"), encoding="utf-8") as f:
                        for line in f:
                            parts = line.rstrip("\n").split("\t", 1)
                            if len(parts) == 2 and parts[0].lower() == address.lower():
                                return parts[1]
                except FileNotFoundError:
                    pass
                return None

            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                self.log("connect", session.peer[1])
                session.host_name = hostname
                return responses

            async def handle_HELO(self, server, session, envelope, hostname):
                self.log("connect", session.peer[1])
                session.host_name = hostname
                return "250 {}".format(server.hostname)

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                reply = self.rule(address)
                self.log("rcpt", address, reply or "250")
                if reply == "drop":
                    server.transport.close()
                    return "421 4.4.2 Connection dropped"
                if reply:
                    return reply
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                name = uuid.uuid4().hex
                temporary = os.path.join(self.folder, name + ".tmp")
                with open(temporary, "wb") as f:
                    f.write(envelope.original_content or envelope.content)
                # Renamed only when complete, so a reader never sees half a message.
                os.replace(temporary, os.path.join(self.folder, name + ".eml"))
                return "250 Message accepted for delivery"
        """;

    private readonly string root = Path.Combine(Path.GetTempPath(), "mca-smtp-" + Guid.NewGuid().ToString("N"));
    private Process? process;

    public SmtpSink()
    {
        Port = FreePort();
        Directory.CreateDirectory(MailFolder);
        File.WriteAllText(Path.Combine(root, "mca_smtp_sink.py"), Handler);
    }

    public int Port { get; }

    public string MailFolder => Path.Combine(root, "mail");

    public bool IsRunning => process is { HasExited: false };

    /// <summary>Starts the server and returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            return;
        }
        var start = new ProcessStartInfo(Python(), ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}", "-c", "mca_smtp_sink.EmlFolder", MailFolder])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PYTHONPATH"] = root;
        start.Environment["PYTHONUNBUFFERED"] = "1";
        var output = new System.Text.StringBuilder();
        process = Process.Start(start) ?? throw new InvalidOperationException("Could not start python3 -m aiosmtpd");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Readiness, not timing: poll until the port answers; the deadline only bounds a broken start.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await AcceptsConnectionsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (output)
                {
                    log = output.ToString();
                }
                await StopAsync();
                throw new InvalidOperationException($"aiosmtpd did not start on port {Port} (is python3-aiosmtpd installed?): {log}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Kills the server and waits until it is gone and its port refuses connections.</summary>
    public async Task StopAsync()
    {
        if (process is null)
        {
            return;
        }
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        process.Dispose();
        process = null;
    }

    /// <summary>Every message received so far, oldest first, parsed.</summary>
    public IReadOnlyList<MimeMessage> Messages() =>
        [.. new DirectoryInfo(MailFolder).GetFiles("*.eml").OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name).Select(f => MimeMessage.Load(f.FullName))];

    /// <summary>The messages addressed to <paramref name="address"/>.</summary>
    public IReadOnlyList<MimeMessage> MessagesTo(string address) =>
        [.. Messages().Where(m => m.To.Mailboxes.Any(b => string.Equals(b.Address, address, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>From now on the server answers <paramref name="reply"/> (for example <c>550 5.1.1 No such mailbox</c>) to this recipient.</summary>
    public void Refuse(string address, string reply) => SetRule(address, reply);

    /// <summary>From now on the server closes the connection, without a reply, when this recipient is named.</summary>
    public void DropConnectionAt(string address) => SetRule(address, "drop");

    /// <summary>From now on the server accepts this recipient again.</summary>
    public void Accept(string address) => SetRule(address, null);

    /// <summary>How many SMTP sessions have greeted the server (EHLO or HELO) since it was first started.</summary>
    public int Connections() => Events().Count(e => e[0] == "connect");

    /// <summary>How many times a client has named <paramref name="address"/> as a recipient (RCPT TO), accepted or not.</summary>
    public int RecipientAttempts(string address) =>
        Events().Count(e => e[0] == "rcpt" && e.Length > 1 && string.Equals(e[1], address, StringComparison.OrdinalIgnoreCase));

    private IEnumerable<string[]> Events()
    {
        var path = Path.Combine(root, "events.log");
        return File.Exists(path) ? File.ReadAllLines(path).Select(line => line.Split('\t')) : [];
    }

    private void SetRule(string address, string? reply)
    {
        var path = Path.Combine(root, "refuse.txt");
        var rules = File.Exists(path) ? File.ReadAllLines(path).Where(l => !l.StartsWith(address + "\t", StringComparison.OrdinalIgnoreCase)).ToList() : [];
        if (reply is not null)
        {
            rules.Add(address + "\t" + reply);
        }
        // Replaced in one step, so the server never reads half a file.
        File.WriteAllLines(path + ".tmp", rules);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }

    private async Task<bool> AcceptsConnectionsAsync()
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Debian's python3 has the aiosmtpd package; a python3 earlier on PATH (pyenv, venv) may not.</summary>
    private static string Python() => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/// <summary>The portal wired to a real SMTP server process (<see cref="SmtpSink"/>), started with the fixture.</summary>
public class SmtpPortalFactory : PortalFactory
{
    public SmtpSink Smtp { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Smtp.StartAsync();
    }

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Smtp:Host", "127.0.0.1");
        builder.UseSetting("Smtp:Port", Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Smtp:TlsMode", "None");
        builder.UseSetting("Smtp:PickupDirectory", "");
    }

    public override async ValueTask DisposeAsync()
    {
        await Smtp.DisposeAsync();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
