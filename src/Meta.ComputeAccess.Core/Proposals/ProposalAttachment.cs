using System.Security.Cryptography;
using System.Text;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// A PDF attached to a proposal, stored in PostgreSQL. Checked by content (the PDF signature at the start and
/// an end-of-file marker near the end), never by the file's name or the browser's content type.
/// </summary>
public sealed class ProposalAttachment
{
    public const int MaxBytes = 10 * 1024 * 1024;

    public Guid Id { get; private set; }

    public Guid ProposalId { get; private set; }

    public string FileName { get; private set; } = "";

    public long SizeBytes { get; private set; }

    public string Sha256 { get; private set; } = "";

    /// <summary>The bytes. Lists project the other columns so they never load this.</summary>
    public byte[] Content { get; private set; } = [];

    public Guid UploadedBy { get; private set; }

    public DateTimeOffset UploadedAt { get; private set; }

    private ProposalAttachment()
    {
    }

    public static ProposalAttachment Create(Guid proposalId, string fileName, byte[] content, Guid uploadedBy, DateTimeOffset now)
    {
        var problem = CheckPdf(content);
        if (problem is not null)
        {
            throw new DomainException(problem);
        }
        return new ProposalAttachment
        {
            Id = Guid.CreateVersion7(now),
            ProposalId = proposalId,
            FileName = SafeFileName(fileName),
            SizeBytes = content.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)),
            Content = content,
            UploadedBy = uploadedBy,
            UploadedAt = now,
        };
    }

    /// <summary>Why <paramref name="content"/> is not an acceptable PDF, or null when it is.</summary>
    public static string? CheckPdf(ReadOnlySpan<byte> content)
    {
        if (content.Length == 0)
        {
            return "The file is empty.";
        }
        if (content.Length > MaxBytes)
        {
            return "The file is larger than 10 MB.";
        }
        if (!content.StartsWith("%PDF-"u8))
        {
            return "The file is not a PDF (its content does not start with a PDF header), whatever its name says.";
        }
        var tail = content[Math.Max(0, content.Length - 1024)..];
        if (tail.IndexOf("%%EOF"u8) < 0)
        {
            return "The PDF is incomplete (no end-of-file marker): it may have been cut off during upload.";
        }
        return null;
    }

    /// <summary>A file name safe for Content-Disposition and display: no paths, no control characters, ends in .pdf.</summary>
    public static string SafeFileName(string? name)
    {
        var baseName = Path.GetFileName((name ?? "").Replace('\\', '/'));
        var sb = new StringBuilder();
        foreach (var c in baseName)
        {
            sb.Append(char.IsControl(c) || c is '"' or '/' or ':' or '*' or '?' or '<' or '>' or '|' ? '_' : c);
        }
        var safe = sb.ToString().Trim().TrimStart('.');
        if (safe.Length == 0)
        {
            safe = "attachment";
        }
        if (safe.Length > 150)
        {
            safe = safe[..150];
        }
        return safe.EndsWith(".pdf", StringComparison.OrdinalIgnoreCase) ? safe : safe + ".pdf";
    }
}
