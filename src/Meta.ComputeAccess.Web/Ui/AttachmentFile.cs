using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Meta.ComputeAccess.Web.Ui;

public static class AttachmentFile
{
    /// <summary>A PDF as a download (never rendered inline in the portal's origin), private and uncached.</summary>
    public static FileContentResult Download(Microsoft.AspNetCore.Mvc.RazorPages.PageModel page, string fileName, byte[] content)
    {
        page.Response.Headers.CacheControl = "private, no-store";
        page.Response.Headers.XContentTypeOptions = "nosniff";
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(fileName);
        page.Response.Headers.ContentDisposition = disposition.ToString();
        return new FileContentResult(content, "application/pdf");
    }
}
