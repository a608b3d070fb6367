<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CollectionDialog</name>
    <message>
        <source>Collection name</source>
        <translation>文档集名称</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Where the collection&apos;s vectors are kept:</source>
        <translation>文档集的向量存放位置：</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>Vectors on this computer</source>
        <translation>向量存放在本机</translation>
    </message>
    <message>
        <source>On a Chroma server:</source>
        <translation>Chroma 服务器：</translation>
    </message>
    <message>
        <source>Vectors on a Chroma server</source>
        <translation>向量存放在 Chroma 服务器上</translation>
    </message>
    <message>
        <source>Chroma server URL</source>
        <translation>Chroma 服务器地址</translation>
    </message>
    <message>
        <source>Documents, their text and a copy of every vector always stay on this computer; a Chroma server (started with “chroma run”) holds the search index, for example on a machine with more memory. If the server loses it, Glassbox fills it again from here.</source>
        <translation>文档、文本以及每个向量的副本始终保存在本机；Chroma 服务器（用“chroma run”启动）存放搜索索引，例如放在内存更大的机器上。如果服务器丢失了索引，Glassbox 会从本机重新填充。</translation>
    </message>
    <message>
        <source>About Chroma servers</source>
        <translation>关于 Chroma 服务器</translation>
    </message>
    <message>
        <source>Location error</source>
        <translation>位置错误</translation>
    </message>
    <message>
        <source>Dialog buttons</source>
        <translation>对话框按钮</translation>
    </message>
    <message>
        <source>Give the collection a name.</source>
        <translation>请为文档集命名。</translation>
    </message>
    <message>
        <source>Choose an installed embedding model. If none is, install one as described above, then try again.</source>
        <translation>请选择一个已安装的嵌入模型。如果一个都没有安装，请按上面的说明安装一个，然后重试。</translation>
    </message>
    <message>
        <source>This is not a Chroma server address: {reason}</source>
        <translation>这不是有效的 Chroma 服务器地址：{reason}</translation>
    </message>
</context>
</TS>
